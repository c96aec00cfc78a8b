# A 10,000,000-iteration counting loop, same work as loop.jue.
# Python has no tail-call elimination (a tail-recursive version would hit the
# recursion limit at depth ~1000), so the tail call is written as a while loop
# that rebinds the two loop variables, which is what the tail call amounts to.
def count(i, acc):
    while i != 0:
        i, acc = i - 1, acc + 1
    return acc


print(count(10000000, 0))

# Build a 1,000,000-element list [1, 2, ..., 1000000] element by element, then
# sum it with an explicit loop (same work as list.jue; not the C-level sum()).
# Sum = 500000500000.
def build(n):
    xs = []
    for i in range(1, n + 1):
        xs.append(i)
    return xs


def total(xs):
    acc = 0
    for x in xs:
        acc = acc + x
    return acc


print(total(build(1000000)))

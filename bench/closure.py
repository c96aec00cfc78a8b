# Closure-heavy, same work as closure.jue: per round make two adder closures,
# compose them into a third, apply it once. Result = 500001500000.
# The outer loop is a while loop because Python has no tail calls.
def make_adder(n):
    return lambda x: x + n


def compose(f, g):
    return lambda x: f(g(x))


def run(i, acc):
    while i <= 1000000:
        i, acc = i + 1, compose(make_adder(i), make_adder(1))(acc)
    return acc


print(run(1, 0))

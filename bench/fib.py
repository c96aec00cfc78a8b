# Recursive Fibonacci: fib(30) = 832040 (same work as fib.jue).
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


print(fib(30))

"""Dictionary: 1,000,000 string keys "k1" ... "k1000000" (made once into a
list), insert key i -> i, look every key up (sum), add 1 to the value of
every even i, then sum all values. Prints: size, first sum, second sum
(1000000 500000500000 500001000000)."""
N = 1_000_000
keys = ["k" + str(i) for i in range(1, N + 1)]
d = {}
for i in range(N):
    d[keys[i]] = i + 1
s1 = 0
for k in keys:
    s1 += d[k]
for i in range(1, N, 2):
    k = keys[i]
    d[k] = d[k] + 1
print(len(d), s1, sum(d.values()))

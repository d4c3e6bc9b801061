return {i = 1, f = 1.5, s = "héllo ☃", l = {1, 2, 3}, e = JSON.array{}, o = {}, n = {a = {b = true}}, neg = -7}

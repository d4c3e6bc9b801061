local function check(n)
  if n > 2 then
    error("n is too big: " .. n)
  end
  return n
end
check(1)
return check(3)

local ok, err = pcall(Task.race, {})
return err.code

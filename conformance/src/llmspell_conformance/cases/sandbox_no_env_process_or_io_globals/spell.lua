return {
  os.getenv == nil,                          -- environment variables (API keys)
  os.execute == nil and io == nil,           -- processes and files
  dofile == nil and loadfile == nil,         -- loading files
  python == nil and debug == nil,            -- the host's objects
  package == nil and require == nil,         -- module loading
  load("return os.getenv == nil and io == nil")(),  -- code built at run time
}

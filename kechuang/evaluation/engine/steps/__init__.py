"""The build steps, one module each: the numeric function(s) and the spec entry that runs them."""

package api

import "github.com/r2c-ai/r2c/config"

// configOverride is the part of an implement request that overrides the
// workspace configuration, in the configuration's own terms.
func configOverride(req ImplementRequest) config.Config {
	return config.Config{Model: config.Model{Name: req.Model}, Rounds: req.Rounds}
}

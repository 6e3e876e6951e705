// Package deploy holds the files that run the service outside a laptop:
// the Temporal server's dynamic configuration and the set-up scripts that
// docker-compose.yml mounts. Its tests keep docker-compose.yml, the
// Dockerfile and .env.example in step with the config package, because no
// Docker engine runs them here, and run the built yst binary as a process.
package deploy

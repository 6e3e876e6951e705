// Package chaos contains the crash, restart and database-outage suites. They
// run yst as separate processes built with the chaos tag, kill and restart
// them, stop their database, and then check that every flow completed
// exactly once. The tests compile only with that tag: run them with
// make chaos. docs/reliability.md describes each suite and its figures.
package chaos

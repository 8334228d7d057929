// Package layers keeps the import rule of DESIGN.md ("Layers"): each tier
// imports only the tiers below it. It holds no code; layers_test.go maps
// every package of the module to its tier and fails, naming the arrow, on
// an import that points up or sideways, and on a package the map does not
// place.
package layers

"""The Numba LNS engine: solution state, local search and the adaptive search loop."""

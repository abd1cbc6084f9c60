"""The shape of the gateway package and of the tests: no import cycle, no module too long."""

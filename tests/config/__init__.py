"""The configuration file: its rules, errors named by file and key, the bundled example."""

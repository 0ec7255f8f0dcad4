"""The demo province loaded by `flask seed-demo`, and the demo logins printed at each start."""

"""Things that exist only to run streamproc on one machine: local stand-ins for the platforms'
APIs (used by the tests and by ``streamproc demo``), and the demo's platform loop."""

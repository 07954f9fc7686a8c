from lime.cli.main import run

raise SystemExit(run())

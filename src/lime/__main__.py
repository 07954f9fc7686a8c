from lime.cli.main import main

raise SystemExit(main())

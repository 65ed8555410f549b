from mlex_cli.main import main

raise SystemExit(main())

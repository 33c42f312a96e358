from geotagger.cli.main import main

raise SystemExit(main())

from dunning import startup

startup.defer_collections()  # until the first account is drawn, or the command is not the app

from dunning.cli import main  # noqa: E402

raise SystemExit(main())

"""How deliveries reach the bot and how its work runs: intake, inbox, worker lanes, scheduler, app, config."""

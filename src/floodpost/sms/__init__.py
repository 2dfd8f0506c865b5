"""SMS through gammu-smsd (issue #11): incoming reports as short structured Chinese texts, and
notices sent through gammu's outbox. No web code here.

    message = read_environment(os.environ, argv_ids)      # gammu's RunOnReceive environment
    command = parse_command(message.text, matcher)        # ParseError carries a Chinese reply
    report = report_from_command(command, message)        # the dict POST /api/reports takes
"""

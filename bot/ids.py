"""Every Slack id the bot uses (action_id, callback_id, block_id), shared by builders and listeners."""

# /ladder
LADDER_COMMAND = "/ladder"
LADDER_OPEN = "ladder_open"          # prefix: buttons that open another level / capability
LADDER_SHARE = "ladder_share"        # "Share in channel"

# /growth
GROWTH_COMMAND = "/growth"

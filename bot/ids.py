"""Every Slack id the bot uses (action_id, callback_id, block_id), shared by builders and listeners."""

# /ladder
LADDER_COMMAND = "/ladder"
LADDER_OPEN = "ladder_open"          # prefix: buttons that open another level / capability
LADDER_SHARE = "ladder_share"        # "Share in channel"

# /growth
GROWTH_COMMAND = "/growth"

# Weekly check-ins
CHECKIN_ANSWER = "checkin_answer"            # button on the check-in DM: opens the answer modal
CHECKIN_MODAL = "checkin_answer_modal"       # callback_id of that modal
CHECKIN_QUESTION_BLOCK = "q:"                # block_id prefix: one input per question id
CHECKIN_ANSWER_INPUT = "answer"              # action_id of each answer input
CHECKIN_PRIVATE_BLOCK = "privacy"
CHECKIN_PRIVATE_INPUT = "private"
CHECKIN_METADATA_EVENT = "growth_checkin"    # message metadata: finds a DM already posted
REMINDER_METADATA_EVENT = "growth_reminder"  # message metadata: finds a reminder already posted
OUTBOX_METADATA_EVENT = "growth_outbox"      # message metadata: finds an outbox message already posted

# /growth setup
SETUP_MODAL = "growth_setup_modal"
SETUP_LEVEL_BLOCK = "level"
SETUP_LEVEL_INPUT = "level_input"
SETUP_FRAMEWORK_BLOCK = "framework"
SETUP_FRAMEWORK_INPUT = "framework_input"
SETUP_DAY_BLOCK = "day"
SETUP_DAY_INPUT = "day_input"
SETUP_TIME_BLOCK = "time"
SETUP_TIME_INPUT = "time_input"
SETUP_COUNT_BLOCK = "count"
SETUP_COUNT_INPUT = "count_input"
SETUP_REMINDERS_BLOCK = "reminders"
SETUP_REMINDERS_INPUT = "reminders_input"
OPEN_SETUP = "growth_open_setup"             # button: open the setup modal
CHECKIN_NOW = "growth_checkin_now"           # button: send this week's check-in now

# Growth log files (export, forget-me) and the App Home
EXPORT_OWN_LOG = "growth_export_own_log"     # button (App Home, forget-me): my log as Markdown, in my DM
FORGET_DELETE = "growth_forget_delete"       # button: delete everything stored about the clicker
FORGET_CANCEL = "growth_forget_cancel"       # button: keep everything

# Growth log: manager relationships, reading the log, 1:1 prep
LOG_OLDER = "growth_log_older"               # paging buttons; the value carries owner, filters and page
LOG_NEWER = "growth_log_newer"
LOG_PRIVACY = "growth_log_privacy"           # prefix: "growth_log_privacy:<answer id>", the owner's toggle
LOG_DELETE = "growth_log_delete"             # prefix: "growth_log_delete:<answer id>", the owner's Delete button

# Self-assessment (/growth assess, /growth profile)
ASSESS_MODAL = "growth_assess_modal"         # callback_id of the capability-matrix form
ASSESS_PICK_BLOCK = "assess:"                # block_id prefix: one radio input per capability id
ASSESS_PICK_INPUT = "assess_pick"            # action_id of each radio input

# A leader's team reflection (/growth lead)
LEAD_TURN_ON = "growth_lead_turn_on"         # button on the one-time offer DM: turn it on

"""What the fields of a Telegram Message are (Bot API 10.1), for telling content from events.

A message's content is its fields minus the metadata below. Text, photos, voice and audio
messages (kept as attachments: 适老化) and locations are handled; service fields (a background
set, a topic created, a member joined) are skipped silently; anything else (a sticker, a video,
a field newer than this list) is content
the bot cannot use, answered politely in a private chat. tests/test_telegram_update_kinds.py
feeds every field of the vendored spec through the intake, so a newer spec shows what to add.
"""

from __future__ import annotations

HANDLED_CONTENT = frozenset({"text", "photo", "voice", "audio", "location"})

# Who, where, when and how a message was sent: never what it is.
MESSAGE_METADATA = frozenset({
    "message_id", "message_thread_id", "direct_messages_topic", "from", "sender_chat",
    "sender_boost_count", "sender_business_bot", "sender_tag", "date", "guest_query_id",
    "business_connection_id", "chat", "forward_origin", "is_topic_message", "is_automatic_forward",
    "reply_to_message", "external_reply", "quote", "reply_to_story", "reply_to_checklist_task_id",
    "reply_to_poll_option_id", "via_bot", "guest_bot_caller_user", "guest_bot_caller_chat",
    "edit_date", "has_protected_content", "is_from_offline", "is_paid_post", "media_group_id",
    "author_signature", "paid_star_count", "entities", "link_preview_options",
    "suggested_post_info", "effect_id", "caption", "caption_entities", "show_caption_above_media",
    "has_media_spoiler", "reply_markup",
})

# Events in a chat rather than something a person sent to the bot.
SERVICE_FIELDS = frozenset({
    "new_chat_members", "left_chat_member", "chat_owner_left", "chat_owner_changed",
    "new_chat_title", "new_chat_photo", "delete_chat_photo", "group_chat_created",
    "supergroup_chat_created", "channel_chat_created", "message_auto_delete_timer_changed",
    "migrate_to_chat_id", "migrate_from_chat_id", "pinned_message", "successful_payment",
    "refunded_payment", "users_shared", "chat_shared", "gift", "unique_gift", "gift_upgrade_sent",
    "connected_website", "write_access_allowed", "passport_data", "proximity_alert_triggered",
    "boost_added", "chat_background_set", "checklist_tasks_done", "checklist_tasks_added",
    "direct_message_price_changed", "forum_topic_created", "forum_topic_edited",
    "forum_topic_closed", "forum_topic_reopened", "general_forum_topic_hidden",
    "general_forum_topic_unhidden", "giveaway_created", "giveaway_completed",
    "managed_bot_created", "paid_message_price_changed", "poll_option_added",
    "poll_option_deleted", "suggested_post_approved", "suggested_post_approval_failed",
    "suggested_post_declined", "suggested_post_paid", "suggested_post_refunded",
    "video_chat_scheduled", "video_chat_started", "video_chat_ended",
    "video_chat_participants_invited", "web_app_data",
})

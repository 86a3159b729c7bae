-- A campaign's messages by campaign (cancelling a campaign, its reports), without reading
-- every campaign's messages ever sent.
CREATE INDEX campaign_messages_campaign ON campaign_messages (campaign_id, message_id);

"""The status page of ``archbot serve``: public health and version, and, behind ARCHBOT_STATUS_TOKEN, the
queue, running and failed jobs, recent reviews, today's token spend and error rates (server-side HTML)."""

"""Alerts from the team's alerting pipeline: the notification formats (``formats``) and the listener that receives
them during a run (``listener``). See docs/alerts.md."""

"""Progress updates (báo cáo tiến độ): the daily report a unit posts on each open task."""

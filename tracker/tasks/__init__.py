"""Tasks (nhiệm vụ): the "6 rõ" record, its lifecycle and its service layer."""

"""The rules of the day and the colours, in one place: the working-day calendar
(`calendar`), the xanh hoá colour rules and every rule derived from them (`colours`), each
rule's SQL twin where a query needs one (`sql`), and where the calendar and the policy are
kept (`store`, changed only through `service`). `calendar` and `colours` are pure: the
moment is always passed in."""

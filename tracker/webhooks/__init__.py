"""Webhooks (issue 17): the province's systems told what happens in Tracker, by signed HTTP
POSTs — endpoints and their outbox (`models`), the events queued by the signals' receivers
(`events`), what admins do with endpoints (`service`) and the worker that delivers, retries
and logs (`delivery`). docs/integration.md."""

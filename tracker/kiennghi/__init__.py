"""Vướng mắc, kiến nghị: obstacles and recommendations raised by units, routed to one
responsible unit (đầu mối), answered on time (issue 18, docs/recommendations.md)."""

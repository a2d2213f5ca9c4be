"""Evidence (minh chứng): files and links that back an update or a completion."""

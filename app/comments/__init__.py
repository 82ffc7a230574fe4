"""Reader comments: writing (service, policy), threads, notifications; routes in routes.py."""

from flask.cli import AppGroup

moderation = AppGroup("moderation", help="The moderation team: digests and privacy requests.")

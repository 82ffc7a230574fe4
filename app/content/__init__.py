"""Content services: posts and pages from Markdown files, slugs, what readers may see."""

"""Text analysis of captions and comments: hashtags and sentiment."""

"""Chorus content service: Content library, guidelines and approval workflow → content.approved."""

"""Chorus content service: Content library, guidelines and the approval workflow; publishes content.approved."""

"""``newsmon web``: the analysts' browser view of the indices (search, stories, alerts,
watch list, health), server-rendered with Starlette and Jinja2.
"""

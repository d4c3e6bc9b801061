"""Web tools for llmspell: HTTP requests, page fetching and scraping, feeds, sitemaps, GraphQL,
search — behind the policy's network allowlist.
"""

"""Web pages: linked-data pages, the site's HTML, charts and the dump downloads."""

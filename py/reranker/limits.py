"""Input limits, chosen so 2,000 passages stay interactive in the page and memory stays bounded."""

MAX_PASSAGES = 2_000          # more than any retriever's top-k a person pastes; keeps a re-sort < 1 frame
MAX_PASSAGE_CHARS = 100_000   # ~25k tokens: ~100 windows of a 256-token model, still seconds not minutes
MAX_TOTAL_CHARS = 2_000_000   # whole paste; 10 MB of text is refused with a message, not a frozen tab
MAX_QUERY_CHARS = 2_000       # a query longer than this cannot leave room for passage text in a window
MIN_WINDOW_TOKENS = 16        # smallest passage budget left after the query; below this the query is too long
SHARE_MAX_DECODED_BYTES = 4_000_000  # decompression cap for share strings (no zip bombs)

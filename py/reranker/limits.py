"""Input limits, chosen so 2,000 passages stay interactive in the page and memory stays bounded."""

MAX_PASSAGES = 2_000          # more than any retriever's top-k a person pastes; keeps a re-sort < 1 frame
MAX_PASSAGE_CHARS = 100_000   # ~25k tokens: ~100 windows of a 256-token model, still seconds not minutes
MAX_TOTAL_CHARS = 2_000_000   # whole paste; 10 MB of text is refused with a message, not a frozen tab
MAX_QUERY_CHARS = 2_000       # a query longer than this cannot leave room for passage text in a window
MIN_WINDOW_TOKENS = 16        # smallest passage budget left after the query; below this the query is too long
SHARE_MAX_DECODED_BYTES = 4_000_000  # decompression cap for share strings (no zip bombs)

# Documents mode: a collection of files split into passages, searched by stage 1, shortlist reranked.
MAX_FILES = 5_000                 # files per collection; 20,000 dropped files are refused past this, with a message
MAX_FILE_BYTES = 5_000_000        # one file; ~1,000 passages of 200 tokens, read in well under a second
MAX_COLLECTION_PASSAGES = 20_000  # twice the benchmarked 10,000; past this, further documents are not split
DEFAULT_PASSAGE_TOKENS = 200      # passage budget: one window of a 256-token model with room for a query
MIN_PASSAGE_TOKENS = 32           # smaller passages carry too little context for either stage
MAX_PASSAGE_TOKENS = 2_000        # larger ones are windowed by the reranker anyway
DEFAULT_PASSAGE_OVERLAP = 0.15    # share of a passage's budget repeated at the start of the next one
MAX_PASSAGE_OVERLAP = 0.5
MIN_CANDIDATES = 10               # K: how many stage-1 results go to the reranker
MAX_CANDIDATES = 200
DEFAULT_CANDIDATES = 50
RRF_K = 60                        # reciprocal-rank fusion constant (Cormack et al. 2009)

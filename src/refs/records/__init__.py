"""The services' answers as data: their formats, parsers and what each record names. Pure.

One module per format (Crossref JSON, DataCite JSON:API, CSL-JSON, PubMed XML, PMC ID
converter JSON). Each has the parsers that split a service's answer into per-key
records and ``names_of(payload)``: every identifier (DOI, PMID, PMCID) a record names
about its own work, the crosswalk that deduplication follows. ``resolve/`` uses these
to check and split answers; ``normalise/`` to read records into works. Nothing here
touches the network or the disk.
"""

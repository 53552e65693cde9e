# METADATA
# title: Message wording
# description: Small wording helpers the checks' messages share.
package lib.text

# METADATA
# scope: document
# description: |
#   The plural ending of a noun counting the items of a non-empty list: "s" for several, ""
#   for one (undefined for none: a message about no items is a bug).
plural(list) := "s" if count(list) > 1

plural(list) := "" if count(list) == 1

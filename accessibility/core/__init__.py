"""Core: what every layer shares and nothing else.

Owns: folders (:mod:`.paths`), errors and warnings (:mod:`.errors`), input checks
(:mod:`.validate`), parameter files (:mod:`.params`), column names (:mod:`.columns`),
French number formatting (:mod:`.fr`), place-name normalisation (:mod:`.names`),
atomic file writes (:mod:`.files`), the build-once cache rule (:mod:`.cache`), safe
output folders (:mod:`.outputs`) and escaping by context (:mod:`.escape`).

May import: the standard library and third-party packages only, never another
subpackage of ``accessibility``.
"""

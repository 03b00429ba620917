"""The powers' documents: the 职权目录, each power's 权力运行流程图, each post's 岗位廉政风险防控卡 and the
廉政风险防控手册 of a register, read from a catalogue database (data), laid out as a flowchart (flowchart, drawn as
SVG there and as PNG in picture) and written as Word documents (word). The site serves them; `build.py handbook`
and `build.py cards` write them (commands)."""

package io.modelegress.deploy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** deploy/Dockerfile as instructions: continuation lines joined, comments dropped, each tagged with its stage. */
record Dockerfile(List<Instruction> instructions) {
    record Instruction(int stage, String keyword, String args) {}

    private static final Pattern ENV_PAIR = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\\S+)");

    static Dockerfile read() {
        return parse(DeployFiles.read(DeployFiles.deployDir().resolve("Dockerfile")));
    }

    static Dockerfile parse(String text) {
        List<Instruction> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        int stage = -1;
        for (String raw : text.split("\n", -1)) {
            String line = raw.strip();
            if (line.startsWith("#")) continue;          // Docker drops comment lines, even inside a continuation
            if (line.isEmpty() && current.length() == 0) continue;
            boolean continues = line.endsWith("\\");
            current.append(continues ? line.substring(0, line.length() - 1) : line).append(' ');
            if (continues) continue;
            String instr = current.toString().strip();
            current.setLength(0);
            if (instr.isEmpty()) continue;
            int space = instr.indexOf(' ');
            String keyword = (space < 0 ? instr : instr.substring(0, space)).toUpperCase();
            String args = space < 0 ? "" : instr.substring(space + 1).strip();
            if (keyword.equals("FROM")) stage++;
            out.add(new Instruction(stage, keyword, args));
        }
        return new Dockerfile(out);
    }

    List<Instruction> all(String keyword) {
        return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
    }

    int lastStage() { return instructions.get(instructions.size() - 1).stage(); }

    /** The instructions of the final (runtime) stage with that keyword. */
    List<Instruction> runtime(String keyword) {
        return all(keyword).stream().filter(i -> i.stage() == lastStage()).toList();
    }

    String baseImage(int stage) {
        return all("FROM").get(stage).args().split("\\s+")[0];
    }

    /** The runtime USER as a number: only a numeric user lets the kubelet verify runAsNonRoot. */
    Long userId() {
        List<Instruction> users = runtime("USER");
        if (users.isEmpty()) return null;
        String user = users.get(users.size() - 1).args().split(":")[0];
        return user.chars().allMatch(Character::isDigit) ? Long.parseLong(user) : null;
    }

    Set<Integer> exposedPorts() {
        Set<Integer> ports = new TreeSet<>();
        for (Instruction i : runtime("EXPOSE")) {
            for (String p : i.args().split("\\s+")) ports.add(Integer.parseInt(p.split("/")[0]));
        }
        return ports;
    }

    Optional<String> env(String name) {
        Optional<String> value = Optional.empty();
        for (Instruction i : runtime("ENV")) {
            Matcher m = ENV_PAIR.matcher(i.args());
            while (m.find()) {
                if (m.group(1).equals(name)) value = Optional.of(m.group(2).replaceAll("^\"|\"$", ""));
            }
        }
        return value;
    }

    Optional<String> healthcheck() {
        List<Instruction> h = runtime("HEALTHCHECK");
        return h.isEmpty() ? Optional.empty() : Optional.of(h.get(h.size() - 1).args());
    }

    /** COPY sources and destination (flags such as --from dropped) for COPY instructions without --from. */
    List<List<String>> contextCopies() {
        List<List<String>> out = new ArrayList<>();
        for (Instruction i : all("COPY")) {
            if (i.args().contains("--from=")) continue;
            out.add(Arrays.stream(i.args().split("\\s+")).filter(a -> !a.startsWith("--")).toList());
        }
        return out;
    }
}

/* farol replay: run the correlation engine (correlator/engine.h) over a topology loaded from
 * files and a JSON-lines file of alarm events, printing the outage events it produces. No
 * Redis, no bus: the scenario tests (tests/scenarios) and operators' what-ifs use it. */
#ifndef FAROL_CMD_REPLAY_H
#define FAROL_CMD_REPLAY_H

/* farol replay --topology FILE... --events FILE.jsonl [--subscribers]. Exit status: 0 done,
 * 1 invalid topology or events file, 2 usage error. */
int cmd_replay(int argc, char **argv);

#endif

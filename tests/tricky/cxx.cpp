// cxx.cpp - a C++ program that must run silently under ftmalloc: containers,
// strings, exceptions (allocated by __cxa_allocate_exception), iostreams,
// shared_ptr, aligned new, std::thread with thread_local objects, and
// function-local statics / globals that stay reachable at exit.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

struct alignas(64) Aligned {
	char data[200];
};

struct Counted {
	static int live;
	std::string name;
	explicit Counted(std::string n) : name(std::move(n)) { live++; }
	~Counted() { live--; }
};
int Counted::live = 0;

static std::map<std::string, std::vector<int>> global_map;  // reachable at exit

static std::vector<std::string> &registry()
{
	static std::vector<std::string> r;  // function-local static, reachable at exit
	return r;
}

static thread_local std::string tls_string;
static thread_local std::vector<int> tls_vector;

static int thrower(int i)
{
	if (i % 3 == 0)
		throw std::runtime_error("multiple of three: " + std::to_string(i));
	if (i % 5 == 0)
		throw std::out_of_range(std::string(200, 'x'));
	return i;
}

int main()
{
	// vector of strings, long enough to leave the small-string buffer
	std::vector<std::string> v;
	for (int i = 0; i < 1000; i++)
		v.push_back("string number " + std::to_string(i) + std::string(i % 40, '-'));
	std::sort(v.begin(), v.end());
	size_t chars = 0;
	for (auto &s : v)
		chars += s.size();

	// map and unordered_map
	std::map<int, std::string> m;
	std::unordered_map<std::string, int> um;
	for (int i = 0; i < 5000; i++) {
		m[i * 7 % 1000] = std::to_string(i);
		um[std::to_string(i)] = i;
	}
	long sum = 0;
	for (auto &kv : m)
		sum += kv.first;
	for (int i = 0; i < 5000; i += 2)
		um.erase(std::to_string(i));

	// exceptions
	int caught = 0;
	for (int i = 0; i < 300; i++) {
		try {
			thrower(i);
		} catch (const std::runtime_error &e) {
			caught++;
		} catch (const std::exception &e) {
			caught += 2;
		}
	}
	try {
		std::vector<int> too_big;
		too_big.reserve(too_big.max_size());
	} catch (const std::length_error &) {
		caught += 1000;
	} catch (const std::bad_alloc &) {
		caught += 1000;
	}

	// iostreams
	std::ostringstream os;
	for (int i = 0; i < 100; i++)
		os << i << ':' << i * 0.5 << ';';
	std::istringstream is(os.str());
	std::string tok;
	int toks = 0;
	while (std::getline(is, tok, ';'))
		toks++;

	// smart pointers, aligned new
	{
		std::vector<std::shared_ptr<Counted>> sp;
		for (int i = 0; i < 100; i++)
			sp.push_back(std::make_shared<Counted>("c" + std::to_string(i)));
		std::vector<std::unique_ptr<Counted>> up;
		for (int i = 0; i < 100; i++)
			up.emplace_back(new Counted(std::string(100, 'u')));
		std::unique_ptr<Aligned[]> al(new Aligned[17]);
		if (reinterpret_cast<uintptr_t>(al.get()) % 64 != 0)
			caught = -1;
		auto *one = new Aligned;
		std::memset(one->data, 1, sizeof(one->data));
		delete one;
	}

	// threads with thread_local objects that allocate
	std::mutex mu;
	long tsum = 0;
	std::vector<std::thread> ts;
	for (int t = 0; t < 4; t++)
		ts.emplace_back([t, &mu, &tsum] {
			tls_string = std::string(500, char('a' + t));
			tls_vector.assign(1000, t);
			long s = std::accumulate(tls_vector.begin(), tls_vector.end(), 0L);
			std::lock_guard<std::mutex> g(mu);
			tsum += s + (long)tls_string.size();
		});
	for (auto &t : ts)
		t.join();

	// kept until exit, reachable
	global_map["kept"] = std::vector<int>(100, 1);
	registry().push_back(std::string(300, 'r'));
	tls_string = std::string(1000, 'm');

	std::printf("cxx: %zu strings %zu chars, map sum %ld, um %zu, caught %d, %d tokens, live %d, tsum %ld\n",
	    v.size(), chars, sum, um.size(), caught, toks, Counted::live, tsum);
	return 0;
}
